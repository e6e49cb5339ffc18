from mlissues.cli import main

main()
