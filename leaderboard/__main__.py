from leaderboard.ops.cli import main

main()
