from usage_ls.cli import main

raise SystemExit(main())
