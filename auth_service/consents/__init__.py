"""What a person allowed a (third-party) app: remembered per user and client, revocable."""
