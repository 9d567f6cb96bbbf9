"""Reports: the regional sharing report (supply, use, reach, collaboration, money against the
school bill, unmet demand, the quarterly trend) and its exports. Reads every domain below it."""
