"""Albums: manual and smart albums, events, trips, memories, export and organize."""
