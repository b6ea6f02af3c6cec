"""Code both services use; above all the token verifier any resource server can reuse."""
