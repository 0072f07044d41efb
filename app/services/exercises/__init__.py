"""Write-the-code exercises for learners: the catalog (exercise files and the cards that
point at them), attempts and submissions, and confirming a rating into the schedule."""
