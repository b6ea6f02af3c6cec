"""What an actor may hand out: the scopes and resources it holds itself, and the admin areas."""
