-- Runs once, as root, when the MySQL container initialises its data directory (after it created
-- MYSQL_USER). MySQL 8 lets only holders of XA_RECOVER_ADMIN run XA RECOVER, and the service's
-- agent needs XA RECOVER to find its prepared branches after a crash; its start-up check refuses
-- to run without it.
GRANT XA_RECOVER_ADMIN ON *.* TO 'xatm'@'%';
