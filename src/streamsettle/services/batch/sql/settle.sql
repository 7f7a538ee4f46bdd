-- Daily settlement (rule 3.5, 3.6) for one video id range, with rate card :card.
-- views_before / ad_views_before are sums of EARLIER days' statistics, never of earlier
-- settlements, so re-running a date can never count a day twice.
-- Tier i (from_views F_i) prices the views numbered F_i .. F_(i+1) - 1 (last_view); of the
-- views numbered before + 1 .. before + today, max(0, min(before + today, last_view)
-- - max(before + 1, F_i) + 1) fall in it. Counts times prices are summed exactly and
-- truncated once: per (video, ad) pair, and per video for the video views. PostgreSQL sums
-- NUMERIC prices and trunc()ates; SQLite keeps NUMERIC(18,6) as REAL, so there each price
-- is integer micro-KRW, round(price * 1000000) (exact: prices have at most 6 decimals and
-- are below 10^9, see services/rate_cards.py), the 64-bit integer sum (sum() raises on
-- overflow) is integer-divided by 1000000, which truncates the non-negative total exactly.
-- The CTEs are MATERIALIZED so that the tiers and each row's sums are computed once.
DELETE FROM daily_ad_settlements
WHERE business_date = :day AND video_id BETWEEN :lo AND :hi;

DELETE FROM daily_settlements
WHERE business_date = :day AND video_id BETWEEN :lo AND :hi;

WITH tiers AS MATERIALIZED (
    SELECT from_views,
           COALESCE(lead(from_views) OVER (ORDER BY from_views) - 1,
                    9223372036854775807) AS last_view,
           {price} AS price
    FROM rate_card_tiers
    WHERE rate_card_id = :card AND kind = 'ad'
),
pairs AS MATERIALIZED (
    SELECT a.business_date, a.video_id, a.ad_id, a.ad_views,
           COALESCE((SELECT sum(h.ad_views) FROM daily_video_ad_stats AS h
                     WHERE h.video_id = a.video_id AND h.ad_id = a.ad_id
                       AND h.business_date < a.business_date), 0) AS ad_views_before
    FROM daily_video_ad_stats AS a
    WHERE a.business_date = :day AND a.video_id BETWEEN :lo AND :hi
)
INSERT INTO daily_ad_settlements (business_date, video_id, ad_id, rate_card_id, ad_views,
                                  ad_views_before, amount)
SELECT p.business_date, p.video_id, p.ad_id, :card, p.ad_views, p.ad_views_before,
       (SELECT {trunc}(COALESCE(sum(
                   {greatest}(0, {least}(p.ad_views_before + p.ad_views, t.last_view)
                                 - {greatest}(p.ad_views_before + 1, t.from_views) + 1)
                   * t.price), 0){per_unit})
        FROM tiers AS t)
FROM pairs AS p;

WITH tiers AS MATERIALIZED (
    SELECT from_views,
           COALESCE(lead(from_views) OVER (ORDER BY from_views) - 1,
                    9223372036854775807) AS last_view,
           {price} AS price
    FROM rate_card_tiers
    WHERE rate_card_id = :card AND kind = 'video'
),
today AS MATERIALIZED (
    SELECT s.business_date, s.video_id, s.creator_id, s.views, s.ad_views,
           COALESCE((SELECT sum(h.views) FROM daily_video_stats AS h
                     WHERE h.video_id = s.video_id
                       AND h.business_date < s.business_date), 0) AS views_before,
           COALESCE((SELECT sum(p.amount) FROM daily_ad_settlements AS p
                     WHERE p.business_date = s.business_date
                       AND p.video_id = s.video_id), 0) AS ad_amount
    FROM daily_video_stats AS s
    WHERE s.business_date = :day AND s.video_id BETWEEN :lo AND :hi
),
priced AS (
    SELECT d.*,
           (SELECT {trunc}(COALESCE(sum(
                       {greatest}(0, {least}(d.views_before + d.views, t.last_view)
                                     - {greatest}(d.views_before + 1, t.from_views) + 1)
                       * t.price), 0){per_unit})
            FROM tiers AS t) AS video_amount
    FROM today AS d
)
INSERT INTO daily_settlements (business_date, video_id, creator_id, rate_card_id, views,
                               views_before, ad_views, video_amount, ad_amount, total_amount)
SELECT business_date, video_id, creator_id, :card, views, views_before, ad_views,
       video_amount, ad_amount, video_amount + ad_amount
FROM priced;
