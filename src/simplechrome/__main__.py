from simplechrome.cli import main

raise SystemExit(main())
