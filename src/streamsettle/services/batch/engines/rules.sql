-- The rules of one business day (3.3 to 3.6) over the day's inputs (engines/day.py), in the
-- SQL that DuckDB and Spark SQL share. Each "-- relation: <name>" starts one SELECT; the
-- engine keeps its result under <name> for the relations after it, and returns the six
-- result tables (engines/day.py RESULT_COLUMNS) by name.
-- Parameters: {day} (a DATE literal), {window_seconds}, {rate_card_id}. Dialect tokens:
-- {session_text} turns session_id into text PostgreSQL reads as a uuid, {explode} turns
-- an array into one row per element.
-- Counts are BIGINT; money is DECIMAL(38, 6) (counts times NUMERIC(18, 6) prices), summed
-- exactly and truncated once (floor of a non-negative amount) per (video, ad) pair and per
-- video, as rule 3.6 says.

-- relation: user_groups
-- Rule 3.3 on the day's logs and the tail of the day before inside the window: a log is a
-- repeat when the nearest earlier session of the same video by the same user (or from the
-- same IP) started within the window. Only a log that shares its (video, user) or
-- (video, IP) with another log can be one: those groups are found by hashing their keys to
-- one number (a collision only adds logs to the candidates: every log of a group has the
-- group's hash), and only the candidates (a few per cent of a day) are ordered in time.
SELECT hash(video_id, viewer_id) AS group_hash
FROM logs
WHERE viewer_id IS NOT NULL
GROUP BY hash(video_id, viewer_id)
HAVING count(*) > 1;

-- relation: ip_groups
SELECT hash(video_id, ip) AS group_hash
FROM logs
GROUP BY hash(video_id, ip)
HAVING count(*) > 1;

-- relation: candidates
-- Every log of a (video, user) or (video, IP) group with more than one log: each group
-- is here whole, so the nearest earlier session within a group is the same as over all
-- logs (and a log alone in its group has none).
SELECT business_date, video_id, session_id, viewer_id, ip, started_at, watched_seconds,
       ad_ids
FROM logs
WHERE hash(video_id, viewer_id) IN (SELECT group_hash FROM user_groups)
   OR hash(video_id, ip) IN (SELECT group_hash FROM ip_groups);

-- relation: not_counted
-- The day's logs that do not count: self views (the video's creator watching, whatever
-- the window says), then the candidates whose nearest earlier session by the same user
-- or from the same IP (ordered by start, then session id) started within the window.
SELECT l.business_date, l.video_id, l.session_id, l.watched_seconds, l.ad_ids,
       'self' AS kind
FROM logs AS l
JOIN videos AS v ON v.video_id = l.video_id AND v.creator_id = l.viewer_id
WHERE l.business_date = {day}
UNION ALL
SELECT w.business_date, w.video_id, w.session_id, w.watched_seconds, w.ad_ids,
       'repeat' AS kind
FROM (
    SELECT c.business_date, c.video_id, c.session_id, c.viewer_id, c.started_at,
           c.watched_seconds, c.ad_ids,
           lag(c.started_at) OVER (
               PARTITION BY c.video_id, c.viewer_id ORDER BY c.started_at, c.session_id
           ) AS prev_user_start,
           lag(c.started_at) OVER (
               PARTITION BY c.video_id, c.ip ORDER BY c.started_at, c.session_id
           ) AS prev_ip_start
    FROM candidates AS c
) AS w
JOIN videos AS v ON v.video_id = w.video_id
WHERE w.business_date = {day}
  AND (w.viewer_id IS NULL OR w.viewer_id <> v.creator_id)
  AND ((w.viewer_id IS NOT NULL
        AND w.prev_user_start >= w.started_at - INTERVAL '{window_seconds}' SECOND)
       OR w.prev_ip_start >= w.started_at - INTERVAL '{window_seconds}' SECOND);

-- relation: view_classifications
-- Only the sessions that did not count are kept: the counted ones are every other log.
SELECT business_date, CAST(video_id AS BIGINT) AS video_id,
       {session_text} AS session_id, kind, CAST(watched_seconds AS BIGINT) AS watched_seconds
FROM not_counted;

-- relation: pair_views
-- The day's ad views per (video, ad) pair, priced in daily_ad_settlements. Ad views come
-- only from counted views: every ad of the day's logs, less those of the logs that did not
-- count. A slot that had no ad is no ad view.
SELECT {day} AS business_date, CAST(video_id AS BIGINT) AS video_id,
       CAST(ad_id AS BIGINT) AS ad_id, ad_views
FROM (
    SELECT video_id, ad_id, CAST(sum(n) AS BIGINT) AS ad_views
    FROM (
        SELECT video_id, {explode}(ad_ids) AS ad_id, 1 AS n
        FROM logs
        WHERE business_date = {day}
        UNION ALL
        SELECT video_id, {explode}(ad_ids) AS ad_id, -1 AS n
        FROM not_counted
    ) AS s
    WHERE ad_id IS NOT NULL
    GROUP BY video_id, ad_id
) AS a
WHERE ad_views > 0;

-- relation: video_counts
-- Counted views are the day's sessions less those that did not count; a self view adds no
-- watched seconds, a repeat keeps its own.
SELECT d.video_id, d.sessions,
       d.sessions - COALESCE(n.self_views, 0) - COALESCE(n.repeat_views, 0) AS views,
       COALESCE(n.self_views, CAST(0 AS BIGINT)) AS self_views,
       COALESCE(n.repeat_views, CAST(0 AS BIGINT)) AS repeat_views,
       d.watched_seconds - COALESCE(n.self_seconds, 0) AS watched_seconds
FROM (
    SELECT CAST(video_id AS BIGINT) AS video_id, count(*) AS sessions,
           CAST(sum(watched_seconds) AS BIGINT) AS watched_seconds
    FROM logs
    WHERE business_date = {day}
    GROUP BY video_id
) AS d
LEFT JOIN (
    SELECT CAST(video_id AS BIGINT) AS video_id,
           CAST(sum(CASE WHEN kind = 'self' THEN 1 ELSE 0 END) AS BIGINT) AS self_views,
           CAST(sum(CASE WHEN kind = 'repeat' THEN 1 ELSE 0 END) AS BIGINT) AS repeat_views,
           CAST(sum(CASE WHEN kind = 'self' THEN watched_seconds ELSE 0 END) AS BIGINT)
               AS self_seconds
    FROM not_counted
    GROUP BY video_id
) AS n ON n.video_id = d.video_id;

-- relation: daily_video_stats
SELECT {day} AS business_date, k.video_id, v.creator_id, k.sessions, k.views, k.self_views,
       k.repeat_views, k.watched_seconds, COALESCE(a.ad_views, CAST(0 AS BIGINT)) AS ad_views
FROM video_counts AS k
JOIN videos AS v ON v.video_id = k.video_id
LEFT JOIN (
    SELECT video_id, CAST(sum(ad_views) AS BIGINT) AS ad_views
    FROM pair_views
    GROUP BY video_id
) AS a ON a.video_id = k.video_id;

-- relation: daily_ad_stats
SELECT {day} AS business_date, s.ad_id, ads.owner_id, CAST(sum(s.ad_views) AS BIGINT) AS ad_views
FROM pair_views AS s
JOIN ads ON ads.ad_id = s.ad_id
GROUP BY s.ad_id, ads.owner_id;

-- relation: price_tiers
-- A tier {from_views: F} prices the views numbered F to the next tier's F - 1 (last_view).
SELECT kind, from_views, unit_price,
       COALESCE(lead(from_views) OVER (PARTITION BY kind ORDER BY from_views) - 1,
                CAST(9223372036854775807 AS BIGINT)) AS last_view
FROM tiers;

-- relation: daily_ad_settlements
-- Of the views numbered before + 1 .. before + today, GREATEST(0, LEAST(before + today,
-- last_view) - GREATEST(before + 1, F) + 1) fall in a tier.
SELECT {day} AS business_date, p.video_id, p.ad_id,
       CAST({rate_card_id} AS BIGINT) AS rate_card_id, p.ad_views, p.ad_views_before,
       CAST(floor(sum(
           CAST(GREATEST(0, LEAST(p.ad_views_before + p.ad_views, t.last_view)
                            - GREATEST(p.ad_views_before + 1, t.from_views) + 1)
                AS DECIMAL(20, 0)) * t.unit_price)) AS BIGINT) AS amount
FROM (
    SELECT s.video_id, s.ad_id, s.ad_views,
           COALESCE(b.ad_views_before, CAST(0 AS BIGINT)) AS ad_views_before
    FROM pair_views AS s
    LEFT JOIN pair_before AS b ON b.video_id = s.video_id AND b.ad_id = s.ad_id
) AS p
CROSS JOIN price_tiers AS t
WHERE t.kind = 'ad'
GROUP BY p.video_id, p.ad_id, p.ad_views, p.ad_views_before;

-- relation: daily_settlements
SELECT {day} AS business_date, d.video_id, d.creator_id,
       CAST({rate_card_id} AS BIGINT) AS rate_card_id, d.views, d.views_before, d.ad_views,
       d.video_amount, d.ad_amount, d.video_amount + d.ad_amount AS total_amount
FROM (
    SELECT s.video_id, s.creator_id, s.views, s.views_before, s.ad_views,
           CAST(floor(sum(
               CAST(GREATEST(0, LEAST(s.views_before + s.views, t.last_view)
                                - GREATEST(s.views_before + 1, t.from_views) + 1)
                    AS DECIMAL(20, 0)) * t.unit_price)) AS BIGINT) AS video_amount,
           s.ad_amount
    FROM (
        SELECT k.video_id, k.creator_id, k.views, k.ad_views,
               COALESCE(b.views_before, CAST(0 AS BIGINT)) AS views_before,
               COALESCE(a.ad_amount, CAST(0 AS BIGINT)) AS ad_amount
        FROM daily_video_stats AS k
        LEFT JOIN video_before AS b ON b.video_id = k.video_id
        LEFT JOIN (
            SELECT video_id, CAST(sum(amount) AS BIGINT) AS ad_amount
            FROM daily_ad_settlements
            GROUP BY video_id
        ) AS a ON a.video_id = k.video_id
    ) AS s
    CROSS JOIN price_tiers AS t
    WHERE t.kind = 'video'
    GROUP BY s.video_id, s.creator_id, s.views, s.views_before, s.ad_views, s.ad_amount
) AS d;

-- relation: daily_creator_settlements
SELECT {day} AS business_date, creator_id,
       CAST(sum(views) AS BIGINT) AS views, CAST(sum(ad_views) AS BIGINT) AS ad_views,
       CAST(sum(video_amount) AS BIGINT) AS video_amount,
       CAST(sum(ad_amount) AS BIGINT) AS ad_amount,
       CAST(sum(total_amount) AS BIGINT) AS total_amount
FROM daily_settlements
GROUP BY creator_id;
