"""Records and lifecycle: owns the database, applies what intake understood."""
