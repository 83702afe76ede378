-- Accounts. Apply as the MariaDB root after schema.sql, with the two
-- passwords substituted (vmailctl never needs them pasted into SQL):
--   sed -e "s/@MAILUSER_PASSWORD@/$pw1/" -e "s/@ADMIN_PASSWORD@/$pw2/" grants.sql | mariadb mailserver
-- mailuser: what the servers use. SELECT only: a compromised network daemon
-- can read the tables but never change them.
CREATE USER IF NOT EXISTS 'mailuser'@'localhost' IDENTIFIED BY '@MAILUSER_PASSWORD@';
GRANT SELECT ON virtual_domains TO 'mailuser'@'localhost';
GRANT SELECT ON virtual_users TO 'mailuser'@'localhost';
GRANT SELECT ON virtual_aliases TO 'mailuser'@'localhost';
-- vmailadmin: what vmailctl uses to change domains, users and aliases and to
-- apply migrations.
CREATE USER IF NOT EXISTS 'vmailadmin'@'localhost' IDENTIFIED BY '@ADMIN_PASSWORD@';
GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, REFERENCES ON mailserver.* TO 'vmailadmin'@'localhost';
FLUSH PRIVILEGES;
