// Deterministic generator of the reference project's raw data (DESIGN "Raw inputs"): the app
// database's five tables, JSON-lines events and the two CSV exports, deliberately messy, with
// the ground truth of every planted defect counted as it is emitted. Rows are produced by
// generators so the large datasets (`npm run gen:data`) stream in bounded memory.

/** mulberry32: small, fast, seedable; the same seed always yields the same data. */
export function rng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (list) => list[Math.floor(next() * list.length)],
    chance: (p) => next() < p,
  };
}

const DAY = 86_400_000;

export function defaultOptions(overrides = {}) {
  const reviews = overrides.reviews ?? 420;
  return {
    seed: 20251107,
    // The data ends on this day (UTC); reviews span `reviewDays` before it, events `eventDays`.
    endDate: '2025-11-07',
    reviewDays: 60,
    eventDays: 5,
    reviews,
    events: 700,
    contents: Math.max(60, Math.round(reviews / 200)),
    users: Math.max(80, Math.round(reviews / 10)),
    heroSlides: 8,
    comingSoon: 10,
    ...overrides,
  };
}

// ---------------------------------------------------------------- vocabulary

const SPECIAL_TITLES = [
  'Love, Actually Not', 'The "Real" Story', "Don't Look Up There", "Amélie's Garden",
  'Goodbye, Mr. Pixel', 'Crouching Tiger, Hidden Server', "Ocean's Fourteen", 'Half Past Midnight',
];
const ADJECTIVES = ['Last', 'Silent', 'Broken', 'Golden', 'Hidden', 'Electric', 'Distant', 'Burning', 'Frozen', 'Midnight',
  'Crimson', 'Endless', 'Forgotten', 'Wild', 'Paper', 'Glass', 'Iron', 'Velvet', 'Lonely', 'Secret', 'Northern', 'Hollow',
  'Quiet', 'Savage', 'Neon', 'Lucky', 'Bitter', 'Brave', 'Little', 'Final'];
const NOUNS = ['Horizon', 'Kingdom', 'Signal', 'Harbor', 'Empire', 'Garden', 'River', 'Circuit', 'Frontier', 'Promise',
  'Orchard', 'Station', 'Witness', 'Protocol', 'Summer', 'Letters', 'Island', 'Machine', 'Tide', 'Crown', 'Echo', 'Valley',
  'Archive', 'Parade', 'Lighthouse', 'Engine', 'Winter', 'Shadow', 'Compass', 'Heist'];
const FIRST = ['Ava', 'Liam', 'Noah', 'Emma', 'Mia', 'Lucas', 'Zoe', 'Omar', 'Priya', 'Kenji', 'Sofia', 'Mateo', 'Chloé',
  'Ingrid', 'Tariq', 'Yara', 'Felix', 'Nadia', 'Hugo', 'Siobhán', 'Ravi', 'Elena', 'Jonas', 'Aisha', 'Marco'];
const LAST = ['Hart', 'Okafor', 'Lindqvist', 'Moreau', 'Tanaka', 'Silva', "O'Neill", 'Novak', 'Castillo', 'Brennan',
  'Kowalski', 'Haddad', 'Nguyen', 'Fischer', 'Rossi', 'Mendes', 'Ibarra', 'Quinn', 'Sato', 'Adeyemi'];
const GENRES = ['drama', 'comedy', 'sci-fi', 'thriller', 'horror', 'documentary', 'animation', 'romance', 'action'];
const PLATFORMS = ['Netflix', 'Prime Video', 'Disney+', 'Max', 'Apple TV+', 'Hulu'];
const BAD_RATINGS = [-1, -0.5, 10.5, 11, 12.5, 85];
const EVENT_TYPES = [
  ['content_view', 45], ['carousel_impression', 20], ['trailer_play', 10], ['watchlist_add', 8], ['search', 7],
  ['review_created', 5], ['share', 3], ['carousel_click', 2],
];
const OFFSETS = ['Z', 'Z', '+00:00', '+02:00', '-05:00', '+05:30', '-08:00', '+0100', '+09:00'];

function messyCase(r, s) {
  switch (r.int(0, 4)) {
    case 0: return s.toUpperCase();
    case 1: return s[0].toUpperCase() + s.slice(1);
    case 2: return s.toLowerCase();
    default: return s;
  }
}
function messySpace(r, s, p = 0.25) {
  if (!r.chance(p)) return s;
  return r.pick(['  ', ' ', '\t', '']) + s + r.pick([' ', '  ', '', ' \t']);
}
const pad = (n, w = 2) => String(n).padStart(w, '0');
/** MySQL DATETIME text (UTC) for epoch milliseconds. */
export function mysqlDateTime(ms) {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}
function mysqlDate(ms) {
  return mysqlDateTime(ms).slice(0, 10);
}
/** A DATETIME MariaDB stores under ALLOW_INVALID_DATES but no calendar has. */
function invalidDateTime(r, year) {
  return r.pick(['0000-00-00 00:00:00', '0000-00-00 00:00:00', `${year}-02-30 10:15:00`, `${year}-04-31 23:00:00`, `${year}-06-31 08:30:00`]);
}
function slug(s) {
  return s.normalize('NFD').replace(/[^\w\s-]/g, '').trim().toLowerCase().replace(/\s+/g, '-');
}

function title(i) {
  if (i < SPECIAL_TITLES.length) return SPECIAL_TITLES[i];
  const k = i - SPECIAL_TITLES.length;
  const a = ADJECTIVES[k % ADJECTIVES.length];
  const n = NOUNS[Math.floor(k / ADJECTIVES.length) % NOUNS.length];
  const round = Math.floor(k / (ADJECTIVES.length * NOUNS.length));
  const base = k % 3 === 0 ? `The ${a} ${n}` : k % 3 === 1 ? `${a} ${n}` : `${n} of the ${a}`;
  return round === 0 ? base : `${base} ${round + 1}`;
}
function person(r) {
  return `${r.pick(FIRST)} ${r.pick(LAST)}`;
}

// ---------------------------------------------------------------- the dataset

/**
 * Builds the dataset lazily. Dimension tables are small and held in memory; reviews and events
 * are generators. `truth` accumulates the planted counts while rows are produced.
 */
export function createDataset(options) {
  const o = defaultOptions(options);
  const end = Date.parse(`${o.endDate}T00:00:00Z`) + DAY; // exclusive end of the data
  const truth = {
    content_rows: 0, content_invalid_created_at: 0, content_invalid_updated_at: 0,
    user_rows: 0, users_invalid_registration_date: 0, users_by_role: { USER: 0, CRITIC: 0, ADMIN: 0 },
    content_by_type: { MOVIE: 0, SERIES: 0 },
    review_rows: 0, reviews_kept: 0,
    review_rejects: { rating_missing: 0, rating_out_of_range: 0, invalid_created_at: 0, unknown_content: 0, unknown_user: 0, duplicate_review_id: 0, duplicate_submission: 0 },
    reviews_kept_critic: 0, duplicate_of_rejected_kept: 0,
    event_lines: 0, events_kept: 0, event_rejects: { malformed_json: 0, invalid_ts: 0 },
    active_hero_slides: 0, active_coming_soon: 0,
    as_of: null,
  };

  // content ----------------------------------------------------------------
  const content = [];
  {
    const r = rng(o.seed + 1);
    const actors = Array.from({ length: Math.max(40, o.contents * 2) }, () => person(r));
    const directors = Array.from({ length: Math.max(15, Math.round(o.contents / 3)) }, () => person(r));
    for (let id = 1; id <= o.contents; id++) {
      const isMovie = r.chance(0.7);
      truth.content_by_type[isMovie ? 'MOVIE' : 'SERIES']++;
      const type = messySpace(r, messyCase(r, isMovie ? 'movie' : 'series'), 0.3);
      const genre = messySpace(r, messyCase(r, r.pick(GENRES)), 0.3);
      const year = r.chance(0.08) ? null : r.chance(0.02) ? 0 : r.int(1975, 2026);
      const director = r.chance(0.1) ? null : messySpace(r, r.pick(directors), 0.1);
      const directorPhoto = director === null || r.chance(0.3) ? null : `https://img.example.com/people/${slug(director)}.jpg`;
      let cast = null;
      let castPhotos = null;
      if (!r.chance(0.05)) {
        const names = Array.from({ length: r.int(2, 5) }, () => r.pick(actors));
        cast = names.map((n) => messySpace(r, n, 0.1));
        if (!r.chance(0.1)) castPhotos = names.map((n) => (r.chance(0.15) ? null : `https://img.example.com/people/${slug(n)}.jpg`));
      }
      let platforms;
      const pr = r.next();
      if (pr < 0.1) platforms = null;
      else if (pr < 0.15) platforms = r.pick(PLATFORMS) + ', ' + r.pick(PLATFORMS); // a JSON string, not an array
      else if (pr < 0.18) platforms = [];
      else platforms = [...new Set(Array.from({ length: r.int(1, 3) }, () => r.pick(PLATFORMS)))].map((p) => messySpace(r, p, 0.15));
      const hype = r.chance(0.1) ? null : r.chance(0.03) ? r.pick([-5, 150, 101.5]) : Math.round(r.next() * 10000) / 100;
      const createdMs = Date.parse('2023-01-01T00:00:00Z') + Math.floor(r.next() * (end - 90 * DAY - Date.parse('2023-01-01T00:00:00Z')));
      let created = mysqlDateTime(Math.floor(createdMs / 1000) * 1000);
      if (r.chance(0.07)) { created = invalidDateTime(r, 2024); truth.content_invalid_created_at++; }
      let updated = mysqlDateTime(Math.floor((createdMs + r.int(0, 200) * DAY) / 1000) * 1000);
      if (r.chance(0.03)) { updated = '0000-00-00 00:00:00'; truth.content_invalid_updated_at++; }
      content.push({
        id, title: messySpace(r, title(id - 1), 0.15), content_type: type, genre, release_year: year,
        director, director_photo_url: directorPhoto, cast: cast && JSON.stringify(cast),
        cast_photos: castPhotos && JSON.stringify(castPhotos),
        platforms: platforms === null ? null : JSON.stringify(platforms),
        hype_index: hype === null ? null : hype.toFixed(2), created_at: created, updated_at: updated,
        // ground truth for exports matching (not a column)
        _title: title(id - 1), _year: year && year >= 1888 ? year : null,
      });
    }
    truth.content_rows = content.length;
  }

  // users ------------------------------------------------------------------
  const users = [];
  const critics = [];
  {
    const r = rng(o.seed + 2);
    for (let id = 1; id <= o.users; id++) {
      const roll = r.next();
      const role = roll < 0.82 ? 'user' : roll < 0.95 ? 'critic' : 'admin';
      truth.users_by_role[role.toUpperCase()]++;
      if (role === 'critic') critics.push(id);
      const first = r.pick(FIRST);
      const last = r.pick(LAST);
      const email = messySpace(r, messyCase(r, `${slug(first)}.${slug(last)}${id}@example.com`), 0.1);
      const regMs = Date.parse('2022-01-01T00:00:00Z') + Math.floor(r.next() * (end - 70 * DAY - Date.parse('2022-01-01T00:00:00Z')));
      let reg = mysqlDateTime(Math.floor(regMs / 1000) * 1000);
      if (r.chance(0.06)) { reg = invalidDateTime(r, 2023); truth.users_invalid_registration_date++; }
      users.push({ id, email, role: messySpace(r, messyCase(r, role), 0.35), registration_date: reg, is_active: r.chance(0.9) ? 1 : 0 });
    }
    truth.user_rows = users.length;
  }
  const isCritic = new Set(critics);

  // reviews (generator) -----------------------------------------------------
  // Popularity is skewed (a few titles get most reviews) so "top content" means something.
  const popularity = content.map((c, i) => 1 / Math.pow(i + 1, 0.8));
  const order = content.map((c) => c.id);
  {
    const r = rng(o.seed + 3);
    for (let i = order.length - 1; i > 0; i--) { const j = r.int(0, i); [order[i], order[j]] = [order[j], order[i]]; }
  }
  const cumulative = [];
  popularity.reduce((acc, w, i) => (cumulative[i] = acc + w), 0);
  const totalWeight = cumulative[cumulative.length - 1];
  const pickContent = (r) => {
    const x = r.next() * totalWeight;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (cumulative[mid] < x) lo = mid + 1; else hi = mid; }
    return order[lo];
  };
  const start = end - o.reviewDays * DAY;
  const slot = (end - start) / o.reviews; // each original review owns one time slot, so none collide by accident

  function* reviews() {
    const r = rng(o.seed + 4);
    const recentValid = []; // [user_id, content_id, created_at] of kept originals, for double submissions
    const recentRejected = [];
    for (let id = 1; id <= o.reviews; id++) {
      truth.review_rows++;
      const slotStart = start + (id - 1) * slot;
      const createdMs = Math.floor((slotStart + r.next() * Math.max(0, slot - 1000)) / 1000) * 1000;
      let user = r.chance(0.15) && critics.length ? r.pick(critics) : r.int(1, o.users);
      let contentId = pickContent(r);
      let created = mysqlDateTime(createdMs);
      const validRating = () => {
        if (isCritic.has(user)) return (r.int(0, 100) / 10).toFixed(2);
        return (r.chance(0.6) ? r.int(1, 10) : r.int(2, 20) / 2).toFixed(2);
      };
      let rating = null;
      let reason = null;
      const roll = r.next();
      if (roll < 0.04 && recentValid.length) {
        [user, contentId, created] = r.pick(recentValid);
        rating = validRating();
        reason = 'duplicate_submission';
      } else if (roll < 0.05 && recentRejected.length) {
        // the first submission was rejected (no rating), the resubmission is the one that counts
        [user, contentId, created] = recentRejected.shift();
        rating = validRating();
        truth.duplicate_of_rejected_kept++;
      } else if (roll < 0.08) {
        reason = 'rating_missing';
      } else if (roll < 0.11) {
        rating = r.pick(BAD_RATINGS).toFixed(2);
        reason = 'rating_out_of_range';
      } else if (roll < 0.13) {
        rating = validRating();
        created = invalidDateTime(r, 2025);
        reason = 'invalid_created_at';
      } else if (roll < 0.15) {
        rating = validRating();
        contentId = o.contents + r.int(1, 50);
        reason = 'unknown_content';
      } else if (roll < 0.17) {
        user = o.users + r.int(1, 50);
        rating = validRating();
        reason = 'unknown_user';
      } else {
        rating = validRating();
      }
      if (reason === 'rating_missing') {
        recentRejected.push([user, contentId, created]);
        if (recentRejected.length > 5) recentRejected.shift();
      }
      if (reason === null) {
        truth.reviews_kept++;
        if (isCritic.has(user)) truth.reviews_kept_critic++;
        if (recentValid.length >= 50) recentValid.shift();
        recentValid.push([user, contentId, created]);
      } else {
        truth.review_rejects[reason]++;
      }
      const updated = created.startsWith('0000') || /-(02-30|04-31|06-31)/.test(created)
        ? mysqlDateTime(createdMs)
        : mysqlDateTime(createdMs + (r.chance(0.1) ? r.int(60, 86_400) * 1000 : 0));
      yield { id, content_id: contentId, user_id: user, rating, created_at: created, updated_at: updated };
    }
    truth.as_of = mysqlDateTime(end - 1000);
  }

  // hero carousel and coming soon -----------------------------------------
  const asOfMs = end - 1000; // the dashboards' "now": the latest moment of the data
  const hero = [];
  {
    const r = rng(o.seed + 5);
    for (let id = 1; id <= o.heroSlides; id++) {
      const active = r.chance(0.75) ? 1 : 0;
      const kind = r.int(0, 4);
      const startsMs = end - r.int(1, 20) * DAY;
      let starts = kind === 0 ? null : mysqlDateTime(startsMs);
      let ends = kind <= 1 ? null : mysqlDateTime(end + r.int(-5, 25) * DAY);
      if (kind === 4 && r.chance(0.5)) ends = '0000-00-00 00:00:00';
      if (id === 1) { starts = mysqlDateTime(end + 3 * DAY); ends = null; } // scheduled, not yet live
      const startsOk = starts === null || (!starts.startsWith('0000') && Date.parse(starts.replace(' ', 'T') + 'Z') <= asOfMs);
      const endsOk = ends === null || ends.startsWith('0000') || Date.parse(ends.replace(' ', 'T') + 'Z') > asOfMs;
      if (active && startsOk && endsOk) truth.active_hero_slides++;
      hero.push({ id, content_id: r.int(1, o.contents), position: id, is_active: active, starts_at: starts, ends_at: ends });
    }
  }
  const comingSoon = [];
  {
    const r = rng(o.seed + 6);
    for (let id = 1; id <= o.comingSoon; id++) {
      const active = r.chance(0.8) ? 1 : 0;
      const kind = r.int(0, 5);
      let release = mysqlDate(end + r.int(-10, 120) * DAY);
      if (kind === 0) release = null;
      if (kind === 1) release = r.pick(['0000-00-00', '2026-02-30']);
      const valid = release !== null && kind !== 1;
      const upcoming = !valid ? true : Date.parse(release + 'T00:00:00Z') >= Date.parse(mysqlDate(asOfMs) + 'T00:00:00Z');
      if (active && upcoming) truth.active_coming_soon++;
      comingSoon.push({
        id, content_id: r.chance(0.3) ? r.int(1, o.contents) : null,
        title: messySpace(r, `${r.pick(ADJECTIVES)} ${r.pick(NOUNS)}: Part ${r.int(2, 4)}`, 0.4), release_date: release, is_active: active,
      });
    }
  }

  // events (generator of [relativePath, line]) ------------------------------
  function* events() {
    const r = rng(o.seed + 7);
    const cumulativeTypes = [];
    EVENT_TYPES.reduce((acc, [, w], i) => (cumulativeTypes[i] = acc + w), 0);
    const typeOf = () => { const x = r.next() * 100; return EVENT_TYPES[cumulativeTypes.findIndex((c) => x < c)][0]; };
    const eventStart = end - o.eventDays * DAY;
    const perDay = Math.ceil(o.events / o.eventDays);
    const filesPerDay = Math.max(2, Math.ceil(perDay / 250_000));
    let n = 0;
    for (let day = 0; day < o.eventDays && n < o.events; day++) {
      const dayStart = eventStart + day * DAY;
      const d = new Date(dayStart);
      const dir = `${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}`;
      const today = Math.min(perDay, o.events - n);
      for (let k = 0; k < today; k++, n++) {
        const file = `${dir}/app-events-${pad(Math.floor((k * filesPerDay) / today), 2)}.jsonl`;
        truth.event_lines++;
        const ms = dayStart + Math.floor((k / today) * DAY + r.next() * (DAY / today));
        const type = typeOf();
        const ev = { ts: isoWithOffset(r, ms), event: type };
        if (!r.chance(0.05)) ev.user_id = r.chance(0.03) ? String(r.int(1, o.users)) : r.int(1, o.users);
        if (['content_view', 'trailer_play', 'watchlist_add', 'share', 'review_created'].includes(type)) ev.content_id = pickContent(r);
        if (type === 'review_created') ev.rating = r.int(2, 20) / 2;
        if (type.startsWith('carousel')) ev.slide_id = r.int(1, o.heroSlides);
        if (type === 'search') ev.query = r.pick(['horizon', 'comedy', ' Netflix ', 'tanaka', 'the last']);
        ev.platform = r.pick(['web', 'ios', 'android', 'tv']);
        ev.session_id = `s-${(r.int(0, 0xffffff)).toString(16).padStart(6, '0')}`;
        const roll = r.next();
        let line;
        if (roll < 0.012) {
          truth.event_rejects.malformed_json++;
          const full = JSON.stringify(ev);
          line = r.pick([
            full.slice(0, Math.max(10, Math.floor(full.length / 2))),
            full.replace(/"/g, "'"),
            full.slice(0, -1) + ',}',
            `${full} trailing garbage`,
            'null',
          ]);
        } else if (roll < 0.024) {
          truth.event_rejects.invalid_ts++;
          const bad = r.int(0, 3);
          if (bad === 0) delete ev.ts;
          else ev.ts = ['', 'yesterday', '2025-11-31T10:00:00Z', '2025-13-02T25:00:00+02:00'][bad];
          line = JSON.stringify(ev);
        } else {
          truth.events_kept++;
          line = JSON.stringify(ev);
        }
        yield [file, line];
      }
    }
  }

  // exports ----------------------------------------------------------------
  function* imdbRows() {
    const r = rng(o.seed + 8);
    yield ['tconst', 'title', 'year', 'imdb_rating', 'num_votes'];
    let tt = 1_000_000;
    for (const c of content) {
      if (!r.chance(0.85)) continue;
      const year = c._year ?? r.int(1980, 2024);
      const ratingRoll = r.next();
      const rating = ratingRoll < 0.05 ? '' : ratingRoll < 0.07 ? 'N/A' : ratingRoll < 0.09 ? r.pick(['11.4', '-1']) : (r.int(15, 95) / 10).toFixed(1);
      const votes = r.int(50, 2_500_000);
      yield [`tt${tt++}`, messySpace(r, messyCase(r, c._title), 0.2), String(year), rating, r.chance(0.2) ? votes.toLocaleString('en-US') : String(votes)];
      if (r.chance(0.03)) yield [`tt${tt++}`, c._title, String(year), (r.int(15, 95) / 10).toFixed(1), String(r.int(5, 40))]; // a duplicate listing with few votes
    }
    for (let i = 0; i < Math.max(5, Math.round(content.length / 10)); i++) {
      yield [`tt${tt++}`, `${r.pick(ADJECTIVES)} ${r.pick(NOUNS)} Returns`, String(r.int(1950, 2025)), (r.int(15, 95) / 10).toFixed(1), String(r.int(50, 90_000))];
    }
  }
  function* metacriticRows() {
    const r = rng(o.seed + 9);
    yield ['title', 'year', 'metascore', 'critic_reviews'];
    for (const c of content) {
      if (!r.chance(0.7)) continue;
      const roll = r.next();
      const score = roll < 0.05 ? 'tbd' : roll < 0.08 ? r.pick(['101', '-3']) : String(r.int(12, 98));
      yield [messySpace(r, c._title.toUpperCase() === c._title ? c._title : messyCase(r, c._title), 0.2), c._year === null ? '' : String(c._year), score, r.chance(0.1) ? '' : String(r.int(4, 60))];
    }
  }

  return { options: o, truth, content, users, hero, comingSoon, reviews, events, imdbRows, metacriticRows, critics };
}

function isoWithOffset(r, ms) {
  const offset = r.pick(OFFSETS);
  const minutes = offset === 'Z' ? 0 : (offset[0] === '-' ? -1 : 1) * (Number(offset.slice(1, 3)) * 60 + Number(offset.replace(':', '').slice(3, 5)));
  const local = new Date(ms + minutes * 60_000);
  const frac = r.chance(0.4) ? `.${pad(local.getUTCMilliseconds(), 3)}` : '';
  const sep = r.chance(0.95) ? 'T' : ' ';
  return `${local.getUTCFullYear()}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}${sep}${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}${frac}${offset}`;
}

// ---------------------------------------------------------------- text encoders

/** A CSV field: quoted when it must be, and sometimes when it need not be (exports do that). */
export function csvLine(fields, r) {
  return fields.map((f) => {
    const s = String(f);
    if (/[",\r\n]/.test(s) || /^\s|\s$/.test(s) || (r && r.chance(0.1) && s !== '')) return `"${s.replace(/"/g, '""')}"`;
    return s;
  }).join(',') + '\r\n';
}

/** A MySQL literal as mysqldump writes it (mysql_real_escape_string: \\ ' " NUL LF CR ^Z). */
export function sqlValue(v, { numeric = false } = {}) {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'number' || numeric) return String(v);
  const escaped = String(v).replace(/[\\'"\0\n\r\x1a]/g, (c) => ({ '\\': '\\\\', "'": "\\'", '"': '\\"', '\0': '\\0', '\n': '\\n', '\r': '\\r', '\x1a': '\\Z' })[c]);
  return `'${escaped}'`;
}

/** DECIMAL columns: dumped as bare numbers. */
export const NUMERIC_COLUMNS = new Set(['rating', 'hype_index']);

export const TABLE_COLUMNS = {
  content: ['id', 'title', 'content_type', 'genre', 'release_year', 'director', 'director_photo_url', 'cast', 'cast_photos', 'platforms', 'hype_index', 'created_at', 'updated_at'],
  users: ['id', 'email', 'role', 'registration_date', 'is_active'],
  reviews: ['id', 'content_id', 'user_id', 'rating', 'created_at', 'updated_at'],
  hero_carousel: ['id', 'content_id', 'position', 'is_active', 'starts_at', 'ends_at'],
  coming_soon_items: ['id', 'content_id', 'title', 'release_date', 'is_active'],
};

/** The app schema as TypeORM creates it (MariaDB spelling). */
export const APP_DDL = `
CREATE TABLE content (
  id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  title VARCHAR(255) NOT NULL,
  content_type VARCHAR(32) NOT NULL,
  genre VARCHAR(64) NOT NULL,
  release_year INT NULL,
  director VARCHAR(255) NULL,
  director_photo_url VARCHAR(512) NULL,
  \`cast\` JSON NULL,
  cast_photos JSON NULL,
  platforms JSON NULL,
  hype_index DECIMAL(6,2) NULL,
  created_at DATETIME NOT NULL,
  updated_at DATETIME NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE users (
  id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  email VARCHAR(255) NOT NULL,
  role VARCHAR(32) NOT NULL,
  registration_date DATETIME NOT NULL,
  is_active TINYINT(1) NOT NULL DEFAULT 1
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE reviews (
  id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  content_id INT NOT NULL,
  user_id INT NOT NULL,
  rating DECIMAL(5,2) NULL,
  created_at DATETIME NOT NULL,
  updated_at DATETIME NOT NULL,
  KEY idx_reviews_content (content_id),
  KEY idx_reviews_user (user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE hero_carousel (
  id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  content_id INT NOT NULL,
  position INT NOT NULL,
  is_active TINYINT(1) NOT NULL DEFAULT 1,
  starts_at DATETIME NULL,
  ends_at DATETIME NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE coming_soon_items (
  id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  content_id INT NULL,
  title VARCHAR(255) NOT NULL,
  release_date DATE NULL,
  is_active TINYINT(1) NOT NULL DEFAULT 1
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
`;
