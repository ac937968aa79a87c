from cstracker.cli import main

if __name__ == "__main__":  # a worker process started by spawn/forkserver imports this module too
    main()
