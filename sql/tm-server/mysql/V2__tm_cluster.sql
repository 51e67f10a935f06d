-- The deployment's cluster id (tm.server.cluster-id): one row, written once by the first server that
-- starts on this store and read by every later one. Every gtrid the deployment's clients mint names it,
-- so an agent recovers only its own deployment's prepared branches on a database server that several
-- deployments share, and a server never presumes another deployment's transaction aborted.
CREATE TABLE ${prefix}cluster (
    singleton  SMALLINT     NOT NULL PRIMARY KEY,
    cluster_id VARCHAR(16)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    created_at DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    CONSTRAINT ${prefix}cluster_singleton CHECK (singleton = 1)
) ENGINE=InnoDB;
