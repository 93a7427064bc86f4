"""The embedded local stack: AWS (moto), API Gateway, SQS->Lambda pollers, schedules and the ClickUp emulator.

Nothing in here is imported by product code: handlers cannot tell this stack from AWS.
"""
