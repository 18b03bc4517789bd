"""Models of this app come with its issue; the app is installed so the layout is complete."""
