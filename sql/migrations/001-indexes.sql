-- A domain name is unique (the resolver looks domains up by name), and alias
-- lookups by source must not scan the table.
ALTER TABLE virtual_domains ADD UNIQUE INDEX IF NOT EXISTS name (name);
ALTER TABLE virtual_aliases ADD INDEX IF NOT EXISTS source (source);
ALTER TABLE virtual_aliases ADD UNIQUE INDEX IF NOT EXISTS source_destination (source, destination);
