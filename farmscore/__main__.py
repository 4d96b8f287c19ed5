from farmscore.cli import main

raise SystemExit(main())
