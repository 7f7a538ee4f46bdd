-- Daily settlement of each video (rules 3.5, 3.6) for one video id range, with rate card
-- :card; its pairs' settlements were written by video_stats.sql from the same snapshot as
-- the statistics. A video's views are priced after the sum of its EARLIER days' views
-- (n_before), never of earlier settlements, so re-running a date can never count a day
-- twice. Tier i (from_views F_i) prices the views numbered F_i .. F_(i+1) - 1 (last_view);
-- of the views numbered n_before + 1 .. n_before + n, max(0, min(n_before + n, last_view)
-- - max(n_before + 1, F_i) + 1) fall in it (card_tiers and graduated_amount, written once
-- in sql/__init__.py). Counts times prices are summed exactly and
-- truncated once: a pair's amount, a video's video_amount; the video's ad_amount is the
-- sum of its pairs' amounts. PostgreSQL sums NUMERIC prices and trunc()ates; SQLite keeps
-- NUMERIC(18,6) as REAL, so there each price is integer micro-KRW,
-- round(price * 1000000) (exact: prices have at most 6 decimals and are below 10^9, see
-- services/rate_cards.py), the 64-bit integer sum (sum() raises on overflow) is
-- integer-divided by 1000000, which truncates the non-negative total exactly.
DELETE FROM daily_settlements
WHERE business_date = :day AND video_id BETWEEN :lo AND :hi;

INSERT INTO daily_settlements (business_date, video_id, creator_id, rate_card_id, views,
                               views_before, ad_views, video_amount, ad_amount, total_amount)
WITH tiers AS MATERIALIZED (
    {card_tiers} AND kind = 'video'
),
priced AS MATERIALIZED (
    SELECT c.video_id, c.creator_id, c.n, c.n_before, c.ad_views,
           {graduated_amount} AS amount
    FROM (
        SELECT s.video_id, s.creator_id, s.views AS n, s.ad_views,
               COALESCE((SELECT sum(h.views) FROM daily_video_stats AS h
                         WHERE h.video_id = s.video_id AND h.business_date < :day), 0)
                   AS n_before
        FROM daily_video_stats AS s
        WHERE s.business_date = :day AND s.video_id BETWEEN :lo AND :hi
    ) AS c
)
SELECT :day, v.video_id, v.creator_id, :card, v.n, v.n_before, v.ad_views, v.amount,
       COALESCE(a.amount, 0), v.amount + COALESCE(a.amount, 0)
FROM priced AS v
LEFT JOIN (
    SELECT video_id, sum(amount) AS amount
    FROM daily_ad_settlements
    WHERE business_date = :day AND video_id BETWEEN :lo AND :hi
    GROUP BY video_id
) AS a ON a.video_id = v.video_id;
