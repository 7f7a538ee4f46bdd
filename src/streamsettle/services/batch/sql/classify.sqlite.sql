-- As classify.postgresql.sql. SQLite keeps timestamps as 'YYYY-MM-DD HH:MM:SS.ffffff'
-- text, so the window is compared on exact integer microseconds (whole seconds from
-- strftime('%s') plus the six fraction digits), never on floating-point julianday().
DELETE FROM view_classifications
WHERE business_date = :day AND video_id BETWEEN :lo AND :hi;

INSERT INTO view_classifications (business_date, video_id, session_id, kind, watched_seconds)
SELECT w.business_date, w.video_id, w.session_id,
       CASE
           WHEN w.viewer_id IS NOT NULL AND w.viewer_id = v.creator_id THEN 'self'
           WHEN w.viewer_id IS NOT NULL AND w.start_us - w.prev_user_us <= :window_us
               THEN 'repeat'
           WHEN w.start_us - w.prev_ip_us <= :window_us THEN 'repeat'
           ELSE 'counted'
       END,
       w.watched_seconds
FROM (
    SELECT l.business_date, l.video_id, l.session_id, l.viewer_id, l.start_us,
           l.watched_seconds,
           lag(l.start_us) OVER (
               PARTITION BY l.video_id, l.viewer_id ORDER BY l.start_us, l.session_id
           ) AS prev_user_us,
           lag(l.start_us) OVER (
               PARTITION BY l.video_id, l.ip ORDER BY l.start_us, l.session_id
           ) AS prev_ip_us
    FROM (
        SELECT c.*,
               CAST(strftime('%s', c.started_at) AS INTEGER) * 1000000
               + CAST(substr(c.started_at, 21, 6) AS INTEGER) AS start_us
        FROM (
            SELECT business_date, video_id, session_id, viewer_id, ip, started_at,
                   watched_seconds
            FROM watch_logs
            WHERE business_date = :day AND video_id BETWEEN :lo AND :hi
            UNION ALL
            SELECT business_date, video_id, session_id, viewer_id, ip, started_at,
                   watched_seconds
            FROM watch_logs
            WHERE business_date BETWEEN :lookback_date AND :prev_date
              AND video_id BETWEEN :lo AND :hi
              AND started_at >= :window_start
        ) AS c
    ) AS l
) AS w
JOIN videos AS v ON v.id = w.video_id
WHERE w.business_date = :day;
