-- Daily statistics per (video, ad) and per video (rule 3.4) for one video id range.
-- Ad views come only from counted views (a slot that had no ad is no ad view); a self
-- view contributes nothing, a repeat view only its watched seconds.
DELETE FROM daily_video_ad_stats
WHERE business_date = :day AND video_id BETWEEN :lo AND :hi;

DELETE FROM daily_video_stats
WHERE business_date = :day AND video_id BETWEEN :lo AND :hi;

INSERT INTO daily_video_ad_stats (business_date, video_id, ad_id, ad_views)
SELECT c.business_date, c.video_id, s.ad_id, count(*)
FROM view_classifications AS c
JOIN watch_log_ad_slots AS s ON s.session_id = c.session_id
WHERE c.business_date = :day AND c.video_id BETWEEN :lo AND :hi
  AND c.kind = 'counted' AND s.ad_id IS NOT NULL
GROUP BY c.business_date, c.video_id, s.ad_id;

INSERT INTO daily_video_stats (business_date, video_id, creator_id, sessions, views,
                               self_views, repeat_views, watched_seconds, ad_views)
SELECT k.business_date, k.video_id, v.creator_id, k.sessions, k.views, k.self_views,
       k.repeat_views, k.watched_seconds, COALESCE(a.ad_views, 0)
FROM (
    SELECT business_date, video_id,
           count(*) AS sessions,
           sum(CASE WHEN kind = 'counted' THEN 1 ELSE 0 END) AS views,
           sum(CASE WHEN kind = 'self' THEN 1 ELSE 0 END) AS self_views,
           sum(CASE WHEN kind = 'repeat' THEN 1 ELSE 0 END) AS repeat_views,
           sum(CASE WHEN kind = 'self' THEN 0 ELSE watched_seconds END) AS watched_seconds
    FROM view_classifications
    WHERE business_date = :day AND video_id BETWEEN :lo AND :hi
    GROUP BY business_date, video_id
) AS k
JOIN videos AS v ON v.id = k.video_id
LEFT JOIN (
    SELECT video_id, sum(ad_views) AS ad_views
    FROM daily_video_ad_stats
    WHERE business_date = :day AND video_id BETWEEN :lo AND :hi
    GROUP BY video_id
) AS a ON a.video_id = k.video_id;
