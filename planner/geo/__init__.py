"""Geography: travel-time providers and geocoding."""
