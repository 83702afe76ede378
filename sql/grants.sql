-- Accounts. Apply as the MariaDB root after schema.sql, with the three
-- passwords substituted (vmailctl never needs them pasted into SQL):
--   sed -e "s/@MAILUSER_PASSWORD@/$pw1/" -e "s/@ADMIN_PASSWORD@/$pw2/" \
--       -e "s/@LOOKUP_PASSWORD@/$pw3/" grants.sql | mariadb mailserver
-- mailuser: the tutorial's account, SELECT only: a compromised daemon can
-- read the tables but never change them. Where vmaillookup is used, only
-- vmail-checkpw (VMAIL_DB_AUTH_USER) needs it, for the password hashes.
CREATE USER IF NOT EXISTS 'mailuser'@'localhost' IDENTIFIED BY '@MAILUSER_PASSWORD@';
GRANT SELECT ON virtual_domains TO 'mailuser'@'localhost';
GRANT SELECT ON virtual_users TO 'mailuser'@'localhost';
GRANT SELECT ON virtual_aliases TO 'mailuser'@'localhost';
-- vmaillookup: what every other server uses (VMAIL_DB_USER: vmail-resolve,
-- vmail-smtpd's recipient checks, vmail-deliver, vmail-send): the same
-- tables without the password column, so no process that parses mail from
-- the network can read a hash even if it is subverted.
CREATE USER IF NOT EXISTS 'vmaillookup'@'localhost' IDENTIFIED BY '@LOOKUP_PASSWORD@';
GRANT SELECT ON virtual_domains TO 'vmaillookup'@'localhost';
GRANT SELECT (id, domain_id, email) ON virtual_users TO 'vmaillookup'@'localhost';
GRANT SELECT ON virtual_aliases TO 'vmaillookup'@'localhost';
-- vmailadmin: what vmailctl uses to change domains, users and aliases and to
-- apply migrations.
CREATE USER IF NOT EXISTS 'vmailadmin'@'localhost' IDENTIFIED BY '@ADMIN_PASSWORD@';
GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, REFERENCES ON mailserver.* TO 'vmailadmin'@'localhost';
FLUSH PRIVILEGES;
