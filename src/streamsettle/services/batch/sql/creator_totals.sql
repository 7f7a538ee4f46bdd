-- Each creator's earnings for :day, summed from the day's video settlements once every
-- partition has settled (a creator's videos span partitions). Read by the admin overview.
DELETE FROM daily_creator_settlements WHERE business_date = :day;

INSERT INTO daily_creator_settlements (business_date, creator_id, views, ad_views,
                                       video_amount, ad_amount, total_amount)
SELECT business_date, creator_id, sum(views), sum(ad_views), sum(video_amount),
       sum(ad_amount), sum(total_amount)
FROM daily_settlements
WHERE business_date = :day
GROUP BY business_date, creator_id;
