// The planted defects of a generated dataset as (metric, expected) rows: the seed
// `sample_expectations` that tests/data/assert_sample_matches_ground_truth.sql compares with what
// the models produce.
export function expectationRows(truth) {
  const rows = [['metric', 'expected']];
  const add = (metric, value) => rows.push([metric, String(value)]);
  add('reviews.raw_rows', truth.review_rows);
  add('reviews.kept', truth.reviews_kept);
  add('reviews.kept_critic', truth.reviews_kept_critic);
  for (const [reason, n] of Object.entries(truth.review_rejects)) add(`reviews.rejected.${reason}`, n);
  add('content.rows', truth.content_rows);
  add('content.nulled.invalid_created_at', truth.content_invalid_created_at);
  for (const [type, n] of Object.entries(truth.content_by_type)) add(`content.type.${type}`, n);
  add('users.rows', truth.user_rows);
  add('users.nulled.invalid_registration_date', truth.users_invalid_registration_date);
  for (const [role, n] of Object.entries(truth.users_by_role)) add(`users.role.${role}`, n);
  add('events.raw_lines', truth.event_lines);
  add('events.kept', truth.events_kept);
  for (const [reason, n] of Object.entries(truth.event_rejects)) add(`events.rejected.${reason}`, n);
  add('hero_carousel.active', truth.active_hero_slides);
  add('coming_soon_items.active', truth.active_coming_soon);
  return rows;
}
