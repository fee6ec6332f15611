"""A demo program: press Run in the IDE."""

name = input("What's your name? ")
print(f"Hello, {name}! Welcome to goval.")
