from usage_ls.entry import main

raise SystemExit(main())
