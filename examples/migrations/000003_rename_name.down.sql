SET lock_timeout = '5s';
ALTER TABLE users RENAME COLUMN full_name TO name;
