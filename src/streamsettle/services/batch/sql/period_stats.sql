-- The ISO week and the calendar month of :day per video (for one video id range), summed
-- again from every settled day of the period, so that re-running any day keeps them exact.
-- Run right after video_stats.sql, in the same transaction.
DELETE FROM period_video_stats
WHERE ((period = 'week' AND period_start = :week_start)
       OR (period = 'month' AND period_start = :month_start))
  AND video_id BETWEEN :lo AND :hi;

INSERT INTO period_video_stats (period, period_start, video_id, views, watched_seconds)
SELECT p.period, p.period_start, d.video_id, sum(d.views), sum(d.watched_seconds)
FROM (
    SELECT 'week' AS period, :week_start AS period_start, :week_end AS period_end
    UNION ALL
    SELECT 'month', :month_start, :month_end
) AS p
JOIN daily_video_stats AS d ON d.business_date BETWEEN p.period_start AND p.period_end
WHERE d.video_id BETWEEN :lo AND :hi
GROUP BY p.period, p.period_start, d.video_id;
