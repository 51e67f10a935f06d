-- Operators' forced commits, rollbacks and forgets (the admin API), kept so that a transaction's history
-- still shows who forced what, when and why after tm-server restarts. Never read by recovery: it tells
-- the story and decides nothing. at_millis is the wall clock of the server that answered the operator.
CREATE TABLE ${prefix}operator_action (
    id        BIGSERIAL     PRIMARY KEY,
    xid       VARCHAR(64)   NOT NULL,
    at_millis BIGINT        NOT NULL,
    operator  VARCHAR(128)  NOT NULL,
    role      VARCHAR(32)   NOT NULL,
    action    VARCHAR(16)   NOT NULL,
    result    VARCHAR(1000) NOT NULL,
    reason    VARCHAR(500)  NULL
);

CREATE INDEX ${prefix}operator_action_xid ON ${prefix}operator_action (xid, id);
