"""Allocation rounds (issue 13): RTC staff open a round for a set of resources with a registration
window, schools register requests, and at closing the round's days are shared out fairly.

The core is pure and lives apart from the database so it can be property-tested and benchmarked
on its own: `allocation.supply.free_days` turns opening hours, closures, bookings and busy blocks
into the whole days a resource can give, and `allocation.allocate.allocate` shares those days out
over the requests (caps, preferences, earlier rounds, a recorded seeded draw). Tables, services and
pages build on these two and add nothing to the rules."""
