-- Classify each of the day's watch logs (rule 3.3): self, repeat or counted.
-- Candidates are the day's logs plus earlier logs that started inside the repeat window
-- before the day's first instant (:window_start); those count as "earlier sessions" but
-- are not classified for this day. The nearest earlier session of the same video by the
-- same user (or the same IP) decides: if any earlier one started within the window, the
-- nearest one did.
DELETE FROM view_classifications
WHERE business_date = :day AND video_id BETWEEN :lo AND :hi;

INSERT INTO view_classifications (business_date, video_id, session_id, kind, watched_seconds)
SELECT w.business_date, w.video_id, w.session_id,
       CASE
           WHEN w.viewer_id IS NOT NULL AND w.viewer_id = v.creator_id THEN 'self'
           WHEN w.viewer_id IS NOT NULL AND w.prev_user_start >= w.started_at - :window
               THEN 'repeat'
           WHEN w.prev_ip_start >= w.started_at - :window THEN 'repeat'
           ELSE 'counted'
       END,
       w.watched_seconds
FROM (
    SELECT l.business_date, l.video_id, l.session_id, l.viewer_id, l.started_at,
           l.watched_seconds,
           lag(l.started_at) OVER (
               PARTITION BY l.video_id, l.viewer_id ORDER BY l.started_at, l.session_id
           ) AS prev_user_start,
           lag(l.started_at) OVER (
               PARTITION BY l.video_id, l.ip ORDER BY l.started_at, l.session_id
           ) AS prev_ip_start
    FROM (
        SELECT business_date, video_id, session_id, viewer_id, ip, started_at, watched_seconds
        FROM watch_logs
        WHERE business_date = :day AND video_id BETWEEN :lo AND :hi
        UNION ALL
        SELECT business_date, video_id, session_id, viewer_id, ip, started_at, watched_seconds
        FROM watch_logs
        WHERE business_date BETWEEN :lookback_date AND :prev_date
          AND video_id BETWEEN :lo AND :hi
          AND started_at >= :window_start
    ) AS l
) AS w
JOIN videos AS v ON v.id = w.video_id
WHERE w.business_date = :day;
