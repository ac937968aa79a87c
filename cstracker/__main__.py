from cstracker.cli import main

main()
