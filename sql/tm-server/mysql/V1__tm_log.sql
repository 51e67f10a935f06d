-- tm-server's transaction log on MySQL 8 / MariaDB 10.5+ (tm.server.store=jdbc). Applied by tm-server
-- itself at start-up (Flyway, history table ${prefix}schema_history). ${prefix} is
-- tm.server.jdbc.table-prefix. InnoDB: the decisions must survive a crash of the database.

-- One row per tm-server that ever ran on this store: its lease and fencing token (docs/ha.md).
-- Times are written with the database's clock only, never a server's.
CREATE TABLE ${prefix}node (
    node_id     SMALLINT     NOT NULL PRIMARY KEY,
    epoch       BIGINT       NOT NULL,
    address     VARCHAR(255) NOT NULL,
    expires_at  DATETIME(6)  NOT NULL,
    taken_by    SMALLINT     NULL
) ENGINE=InnoDB;

-- One row per global transaction that needs recovery: a durable COMMIT decision, or a 3PC PRE_COMMIT
-- record. Presumed abort: nothing is written for undecided, rolled-back 2PC or one-phase transactions.
--   outcome: 1 COMMIT, 2 ABORT (a 3PC transaction rolled back after its PRE_COMMIT), 3 PRE_COMMIT,
--            4 HEURISTICS (rolled back, but a database decided some branch on its own; held for an operator)
--   payload: the log record as tm-server's file log encodes it (RecordCodec): name and branches
--   completed_at: every branch acknowledged; the row is purged a while later
CREATE TABLE ${prefix}decision (
    xid          VARCHAR(64)  CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
    outcome      SMALLINT     NOT NULL,
    owner_node   SMALLINT     NOT NULL,
    owner_epoch  BIGINT       NOT NULL,
    payload      MEDIUMBLOB   NOT NULL,
    decided_at   DATETIME(6)  NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    completed_at DATETIME(6)  NULL,
    CONSTRAINT ${prefix}decision_outcome CHECK (outcome IN (1, 2, 3, 4)),
    KEY ${prefix}decision_open (owner_node, completed_at, decided_at),
    KEY ${prefix}decision_completed (completed_at)
) ENGINE=InnoDB;
