"""Write-the-code exercises: their format (read statically, never executed in the web
process), their validation, and the sandbox command the judge runs a submission in."""
