"""Stand-ins for the outside services the platform reads, served on loopback ports by test fixtures."""
