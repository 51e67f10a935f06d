-- The deployment's cluster id (tm.server.cluster-id): one row, written once by the first server that
-- starts on this store and read by every later one. Every gtrid the deployment's clients mint names it,
-- so an agent recovers only its own deployment's prepared branches on a database server that several
-- deployments share, and a server never presumes another deployment's transaction aborted.
CREATE TABLE ${prefix}cluster (
    singleton  SMALLINT     PRIMARY KEY CHECK (singleton = 1),
    cluster_id VARCHAR(16)  NOT NULL,
    created_at TIMESTAMPTZ  NOT NULL DEFAULT now()
);
