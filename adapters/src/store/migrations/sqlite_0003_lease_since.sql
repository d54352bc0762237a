-- When the current holder took each lease, to tell people who wait on it (R-6e).
ALTER TABLE leases ADD COLUMN since INTEGER;
