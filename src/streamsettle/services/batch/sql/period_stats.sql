-- The ISO week and the calendar month of :day per video (for one video id range), summed
-- again from every settled day of the period, so that re-running any day keeps them exact.
-- Run right after video_stats.sql, in the same transaction.
DELETE FROM period_video_stats
WHERE period = 'week' AND period_start = :week_start AND video_id BETWEEN :lo AND :hi;

INSERT INTO period_video_stats (period, period_start, video_id, views, watched_seconds)
SELECT 'week', :week_start, video_id, sum(views), sum(watched_seconds)
FROM daily_video_stats
WHERE business_date BETWEEN :week_start AND :week_end AND video_id BETWEEN :lo AND :hi
GROUP BY video_id;

DELETE FROM period_video_stats
WHERE period = 'month' AND period_start = :month_start AND video_id BETWEEN :lo AND :hi;

INSERT INTO period_video_stats (period, period_start, video_id, views, watched_seconds)
SELECT 'month', :month_start, video_id, sum(views), sum(watched_seconds)
FROM daily_video_stats
WHERE business_date BETWEEN :month_start AND :month_end AND video_id BETWEEN :lo AND :hi
GROUP BY video_id;
