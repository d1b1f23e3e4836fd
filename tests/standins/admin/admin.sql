-- admin.sql: metis-deploy STAND-IN schema of database datum_admin (not the real datum-admin schema).
-- Imported into an existing, empty database (no CREATE DATABASE / USE), as the deploy does.
-- The admin stand-in refuses to start unless the tables t_user and t_org exist.

CREATE TABLE IF NOT EXISTS t_org (
    identity_id   VARCHAR(128) NOT NULL COMMENT 'organisation identity (DID)',
    name          VARCHAR(128) NOT NULL DEFAULT '' COMMENT 'organisation name',
    carrier_ip    VARCHAR(64)  NOT NULL DEFAULT '' COMMENT 'carrier address',
    carrier_port  INT          NOT NULL DEFAULT 0,
    status        TINYINT      NOT NULL DEFAULT 0,
    create_time   DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP,
    update_time   DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP,
    PRIMARY KEY (identity_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COMMENT = 'stand-in: the local organisation';

CREATE TABLE IF NOT EXISTS t_user (
    id            BIGINT       NOT NULL AUTO_INCREMENT,
    user_name     VARCHAR(64)  NOT NULL COMMENT 'login name',
    address       VARCHAR(128) NOT NULL DEFAULT '' COMMENT 'wallet address',
    password_hash VARCHAR(128) NOT NULL DEFAULT '',
    is_admin      TINYINT      NOT NULL DEFAULT 0,
    create_time   DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (id),
    UNIQUE KEY uk_user_name (user_name)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COMMENT = 'stand-in: admin users';

CREATE TABLE IF NOT EXISTS t_sys_config (
    config_key    VARCHAR(64)  NOT NULL,
    config_value  VARCHAR(512) NOT NULL DEFAULT '',
    remark        VARCHAR(255) NOT NULL DEFAULT '',
    PRIMARY KEY (config_key)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COMMENT = 'stand-in: settings';

CREATE TABLE IF NOT EXISTS t_data_node (
    node_id       VARCHAR(128) NOT NULL,
    host_name     VARCHAR(128) NOT NULL DEFAULT '',
    internal_ip   VARCHAR(64)  NOT NULL DEFAULT '',
    internal_port INT          NOT NULL DEFAULT 0,
    status        TINYINT      NOT NULL DEFAULT 0,
    create_time   DATETIME     NOT NULL DEFAULT CURRENT_TIMESTAMP,
    PRIMARY KEY (node_id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COMMENT = 'stand-in: data nodes';

INSERT INTO t_sys_config (config_key, config_value, remark)
VALUES ('schema_origin', 'metis-deploy stand-in', 'this database was made from the stand-in admin.sql');
