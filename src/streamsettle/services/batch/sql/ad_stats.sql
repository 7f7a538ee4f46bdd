-- Daily statistics per ad, over all videos: not partitioned, because an ad's views span
-- the video id ranges of every partition. Built from the pairs' daily_ad_settlements.
DELETE FROM daily_ad_stats WHERE business_date = :day;

INSERT INTO daily_ad_stats (business_date, ad_id, owner_id, ad_views)
SELECT a.business_date, a.ad_id, ads.owner_id, sum(a.ad_views)
FROM daily_ad_settlements AS a
JOIN ads ON ads.id = a.ad_id
WHERE a.business_date = :day
GROUP BY a.business_date, a.ad_id, ads.owner_id;
