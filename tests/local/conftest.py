"""The local stack's own tests (`local/`: the embedded AWS, API Gateway, Lambda runtime, pollers, schedules and
the ClickUp emulator), apart from the product's: they prove the stack is as strict as the services it stands for."""
