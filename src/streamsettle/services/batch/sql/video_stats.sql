-- Each of :day's watch logs classified (rule 3.3), the daily statistics (rule 3.4) and the
-- settlement of each (video, ad) pair (rules 3.5, 3.6), for one video id range, from one
-- snapshot of the logs: a log stored while this runs is in none of these rows (it marks
-- the date for a re-run), never counted unclassified.
-- Only the logs that do not count (self, repeat) are written to view_classifications;
-- a log of the day without a row there was counted.
DELETE FROM view_classifications
WHERE business_date = :day AND video_id BETWEEN :lo AND :hi;

DELETE FROM daily_ad_settlements
WHERE business_date = :day AND video_id BETWEEN :lo AND :hi;

DELETE FROM daily_video_stats
WHERE business_date = :day AND video_id BETWEEN :lo AND :hi;

-- The candidates are the day's logs (its partition) plus the earlier logs that started
-- inside the repeat window before the day's first instant (:window_start); those count as
-- "earlier sessions" but are not classified for this day. The nearest earlier session of
-- the same video by the same user (or the same IP) decides: if any earlier one started
-- within the window, the nearest one did. Sessions are ordered by start, then session id.
-- snapshot: kinds
SELECT l.video_id, v.creator_id, l.session_id, l.watched_seconds, l.ad_ids,
       CASE
           WHEN l.viewer_id IS NOT NULL AND l.viewer_id = v.creator_id THEN 'self'
           WHEN l.viewer_id IS NOT NULL AND l.start_key - l.prev_user_key <= {window}
               THEN 'repeat'
           WHEN l.start_key - l.prev_ip_key <= {window} THEN 'repeat'
           ELSE 'counted'
       END AS kind
FROM (
    SELECT c.*,
           lag(c.start_key) OVER (
               PARTITION BY c.video_id, c.viewer_id ORDER BY c.start_key, c.session_id
           ) AS prev_user_key,
           lag(c.start_key) OVER (
               PARTITION BY c.video_id, c.ip ORDER BY c.start_key, c.session_id
           ) AS prev_ip_key
    FROM (
        SELECT business_date, video_id, session_id, viewer_id, ip, watched_seconds, ad_ids,
               {start_key} AS start_key
        FROM (
            SELECT business_date, video_id, session_id, viewer_id, ip, started_at,
                   watched_seconds, ad_ids
            FROM watch_logs
            WHERE business_date = :day AND video_id BETWEEN :lo AND :hi
            UNION ALL
            SELECT business_date, video_id, session_id, viewer_id, ip, started_at,
                   watched_seconds, NULL
            FROM watch_logs
            WHERE business_date BETWEEN :lookback_date AND :prev_date
              AND video_id BETWEEN :lo AND :hi
              AND started_at >= :window_start
        ) AS u
    ) AS c
) AS l
JOIN videos AS v ON v.id = l.video_id
WHERE l.business_date = :day;

INSERT INTO view_classifications (business_date, video_id, session_id, kind, watched_seconds)
SELECT :day, video_id, session_id, kind, watched_seconds
FROM kinds
WHERE kind <> 'counted';

-- Ad views come only from counted views; a slot that had no ad is no ad view. Each pair's
-- views are priced with the ad tiers of rate card :card after the sum of its EARLIER days'
-- ad views (n_before), as settle.sql prices a video's views.
INSERT INTO daily_ad_settlements (business_date, video_id, ad_id, rate_card_id, ad_views,
                                  ad_views_before, amount)
WITH tiers AS MATERIALIZED (
    {card_tiers} AND kind = 'ad'
),
pairs AS MATERIALIZED (
    SELECT k.video_id, a.value AS ad_id, count(*) AS n
    FROM kinds AS k, {ad_ids_of_k}
    WHERE k.kind = 'counted' AND a.value IS NOT NULL
    GROUP BY k.video_id, a.value
)
SELECT :day, c.video_id, c.ad_id, :card, c.n, c.n_before, {graduated_amount}
FROM (
    SELECT p.video_id, p.ad_id, p.n,
           COALESCE((SELECT sum(h.ad_views) FROM daily_ad_settlements AS h
                     WHERE h.video_id = p.video_id AND h.ad_id = p.ad_id
                       AND h.business_date < :day), 0) AS n_before
    FROM pairs AS p
) AS c;

-- A self view contributes nothing, a repeat view only its watched seconds.
INSERT INTO daily_video_stats (business_date, video_id, creator_id, sessions, views,
                               self_views, repeat_views, watched_seconds, ad_views)
SELECT :day, video_id, creator_id,
       count(*),
       sum(CASE WHEN kind = 'counted' THEN 1 ELSE 0 END),
       sum(CASE WHEN kind = 'self' THEN 1 ELSE 0 END),
       sum(CASE WHEN kind = 'repeat' THEN 1 ELSE 0 END),
       sum(CASE WHEN kind = 'self' THEN 0 ELSE watched_seconds END),
       sum(CASE WHEN kind = 'counted' THEN {ad_count} ELSE 0 END)
FROM kinds
GROUP BY video_id, creator_id;
