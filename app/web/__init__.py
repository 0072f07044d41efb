"""HTTP only: routes parse input, call a service, render."""
