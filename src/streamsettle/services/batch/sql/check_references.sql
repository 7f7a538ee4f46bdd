-- The ads of the day's video id range that the catalogue does not hold. The derived tables
-- carry no foreign keys (a key is checked row by row, with a lock on the referenced row);
-- a video id comes from the logs, whose foreign key holds it, and a creator from the video,
-- but an ad id comes from a log's array of reached ads, which no key can check: this does,
-- in bulk, before the step commits.
SELECT count(*)
FROM (
    SELECT DISTINCT ad_id FROM daily_ad_settlements
    WHERE business_date = :day AND video_id BETWEEN :lo AND :hi
) AS s
WHERE NOT EXISTS (SELECT 1 FROM ads AS a WHERE a.id = s.ad_id);
