-- The tables the MySQL rule fixtures use, created (with rows) before each
-- fixture is replayed on a real MariaDB by server_test.go, and replayed
-- into migsafe's model as history so that both see the same schema.
CREATE TABLE users (
  id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  email VARCHAR(100) NOT NULL,
  name VARCHAR(50) NULL,
  full_name VARCHAR(100) NULL,
  nickname VARCHAR(30) NULL,
  bio TEXT NULL,
  plan ENUM('free', 'pro') NOT NULL DEFAULT 'free',
  flags SET('a', 'b') NULL,
  code VARCHAR(20) NULL,
  title VARCHAR(60) CHARACTER SET latin1 NULL,
  score INT NULL,
  legacy_flags INT NULL,
  legacy2 INT NULL,
  legacy3 INT NULL,
  legacy4 INT NULL,
  legacy5 INT NULL,
  status VARCHAR(20) NULL,
  created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  KEY idx_email (email),
  KEY idx_status (status)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE orders (
  id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  user_id BIGINT UNSIGNED NOT NULL,
  total DECIMAL(10, 2) NULL,
  note TEXT NULL,
  KEY idx_user (user_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE events (
  id BIGINT NOT NULL,
  created_at DATETIME NOT NULL,
  payload TEXT NULL,
  PRIMARY KEY (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE articles (
  id BIGINT NOT NULL PRIMARY KEY,
  title VARCHAR(200) NULL,
  body TEXT NULL,
  location POINT NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE comments (
  id BIGINT NOT NULL PRIMARY KEY,
  body TEXT CHARACTER SET latin1 NULL,
  author VARCHAR(50) CHARACTER SET latin1 NULL
) ENGINE=InnoDB DEFAULT CHARSET=latin1;
CREATE TABLE sessions (id BIGINT NOT NULL PRIMARY KEY, expires_at DATETIME NULL) ENGINE=InnoDB;
CREATE TABLE audit_log (id BIGINT NOT NULL PRIMARY KEY, message TEXT NULL) ENGINE=InnoDB;
CREATE TABLE customers (id BIGINT NOT NULL PRIMARY KEY, name VARCHAR(50) NULL) ENGINE=InnoDB;
CREATE TABLE legacy_users (id BIGINT NOT NULL PRIMARY KEY) ENGINE=InnoDB;
INSERT INTO users (email, name, nickname, code, title, score) VALUES
  ('a@example.com', 'Ann', 'ann', 'A1', 'Dr', 1), ('b@example.com', 'Bob', NULL, 'B2', NULL, 2), ('c@example.com', 'Cy', 'cy', NULL, 'Mx', NULL);
INSERT INTO orders (user_id, total, note) VALUES (1, 10.00, 'first'), (2, 20.50, NULL), (1, 5.25, 'third');
INSERT INTO events (id, created_at, payload) VALUES (1, '2024-01-01 00:00:00', 'x'), (2, '2024-01-02 00:00:00', 'y');
INSERT INTO articles (id, title, body, location) VALUES (1, 'Hello', 'hello world', ST_GeomFromText('POINT(1 1)')), (2, 'Bye', 'goodbye world', ST_GeomFromText('POINT(2 2)'));
INSERT INTO comments (id, body, author) VALUES (1, 'nice', 'ann'), (2, 'meh', 'bob');
INSERT INTO sessions (id, expires_at) VALUES (1, '2020-01-01 00:00:00'), (2, '2030-01-01 00:00:00');
INSERT INTO audit_log (id, message) VALUES (1, 'created');
INSERT INTO customers (id, name) VALUES (1, 'Acme');
INSERT INTO legacy_users (id) VALUES (1);
