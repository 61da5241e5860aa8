from rune.cli import main

main()
