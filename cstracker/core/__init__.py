"""The core: fields and code lists (the one schema), converters, rules, problems, identity, periods. Imports nothing else of cstracker."""
