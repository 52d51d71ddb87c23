"""Independent evaluation of plans: constraint checks and KPIs."""
