from auth_service.cli import main

main()
