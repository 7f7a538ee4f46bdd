-- The first video id of each of up to :parts groups of consecutive video ids that hold
-- about the same number of the day's watch logs (a video is never split).
WITH per_video AS (
    SELECT video_id, count(*) AS n
    FROM watch_logs
    WHERE business_date = :day
    GROUP BY video_id
),
running AS (
    SELECT video_id,
           CAST(sum(n) OVER (ORDER BY video_id) - n AS BIGINT) AS n_before,
           CAST(sum(n) OVER () AS BIGINT) AS n_total
    FROM per_video
)
SELECT min(video_id) AS first_video
FROM running
GROUP BY (n_before * :parts) / n_total
ORDER BY first_video;
